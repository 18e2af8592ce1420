/**
 * Asks before a destructive action, inside the page: window.confirm() can close a toolbar popup
 * (Firefox on Linux does) before the answer comes back, and then nothing happens.
 */
import type { RefObject } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

/**
 * Gives keyboard focus back to the control that opened a confirmation when it is cancelled, rather
 * than leaving it on the page's body. That control may be re-rendered meanwhile (Delete makes way
 * for the question), so it is found by its ref once the confirmation is gone.
 */
export function useFocusReturn<T extends HTMLElement>(open: boolean): { opener: RefObject<T>; cancelled: () => void } {
  const opener = useRef<T>(null);
  const wanted = useRef(false);
  useEffect(() => {
    if (open || !wanted.current) return;
    wanted.current = false;
    opener.current?.focus();
  }, [open]);
  const cancelled = () => {
    wanted.current = true;
  };
  return { opener, cancelled };
}

export function InlineConfirm(props: { question: string; confirmLabel: string; onConfirm: () => void; onCancel: () => void }) {
  const confirmButton = useRef<HTMLButtonElement>(null);
  // Keyboard users land on the answer, not back at the top of the popup.
  useEffect(() => confirmButton.current?.focus(), []);
  return (
    <span
      class="inline-confirm"
      role="group"
      aria-label={props.question}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          props.onCancel();
        }
      }}
    >
      <span>{props.question}</span>{' '}
      <button type="button" class="danger confirm-yes" ref={confirmButton} onClick={props.onConfirm}>
        {props.confirmLabel}
      </button>{' '}
      <button type="button" class="confirm-no" onClick={props.onCancel}>
        Cancel
      </button>
    </span>
  );
}
