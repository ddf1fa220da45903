// The sampling grid the fingerprints stage decodes on (picture 4 fps at 128 px, sound 8 kHz mono
// in 0.1 s windows) and the fingerprint format, shared by the hashes, the windows, the matching
// and the stage.
export const SIGNAL_FPS = 4;
export const SIGNAL_WIDTH = 128;
export const VISUAL_STEP_SEC = 1 / SIGNAL_FPS;
export const AUDIO_RATE = 8000;
export const AUDIO_STEP_SEC = 0.1;
/** Seconds of head and tail kept as fingerprints: intros/outros are looked for there. */
export const FINGERPRINT_WINDOW_SEC = 360;
export const FINGERPRINT_VERSION = 1;

/** Values are rounded: the stage output is checkpointed as JSON. */
export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
