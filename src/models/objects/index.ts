// Object detection models: what the objects stage uses to tag shot keyframes.
export { loadObjectDetector, type LoadObjectDetectorOptions } from './centernet-onnx.js';
export { CENTERNET_MODEL_ID, type DetectedObject, type ObjectDetector, type ObjectDetectorOptions } from './detector.js';
export { canonicalObjectLabel, COCO_LABELS_ZH } from './labels.js';
