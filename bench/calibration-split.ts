// The fixed fit/report split of calibration media: by a hash of the file's path relative to
// ../shared/data, so the same picture never falls in both halves and the split needs no list.
import { createHash } from 'node:crypto';

export type CalibrationHalf = 'fit' | 'report';

export function calibrationHalf(relativePath: string): CalibrationHalf {
  return createHash('sha1').update(relativePath).digest()[0]! % 2 === 0 ? 'fit' : 'report';
}
