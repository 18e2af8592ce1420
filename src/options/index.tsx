/**
 * The options page (options_ui, both browsers): which backbone Spotter runs. The choice is the
 * engine's to apply (set-model); this page only asks and shows what is in use.
 */
import { render } from 'preact';
import { ModelChoice } from './model-choice';
import '../popup/popup.css';
import './options.css';

function Options() {
  return (
    <>
      <header class="top">
        <h1>Spotter options</h1>
      </header>
      <ModelChoice />
      <p class="privacy">Every model is bundled with Spotter and runs on this device: nothing is downloaded or uploaded.</p>
    </>
  );
}

render(<Options />, document.getElementById('app')!);
