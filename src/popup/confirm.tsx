/**
 * Asks before a destructive action, inside the page: window.confirm() can close a toolbar popup
 * (Firefox on Linux does) before the answer comes back, and then nothing happens.
 */
import { useEffect, useRef } from 'preact/hooks';

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
