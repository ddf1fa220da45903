// Object detection models: what the objects stage uses to tag shot keyframes.
export { CENTERNET_MODEL_ID, loadObjectDetector, type DetectedObject, type ObjectDetector, type ObjectDetectorOptions } from './centernet.js';
export { canonicalObjectLabel, COCO_LABELS_ZH } from './labels.js';
