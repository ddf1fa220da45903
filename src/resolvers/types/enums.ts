// GraphQL enums mirroring the domain's string unions; `satisfies` keeps both in step.
import { registerEnumType } from 'type-graphql';
import type { CueKind, CueSource, JobStatus, ShotRecord, VideoStatus } from '../../domain.js';
import type { TextDocKind } from '../../store/interfaces.js';

export const VideoStatusEnum = { PENDING: 'PENDING', INDEXING: 'INDEXING', READY: 'READY', FAILED: 'FAILED' } as const satisfies {
  [K in VideoStatus]: K;
};
registerEnumType(VideoStatusEnum, { name: 'VideoStatus', description: 'Where a video is in indexing' });

export const JobStatusEnum = {
  QUEUED: 'QUEUED',
  RUNNING: 'RUNNING',
  SUCCEEDED: 'SUCCEEDED',
  FAILED: 'FAILED',
  CANCELLED: 'CANCELLED',
} as const satisfies { [K in JobStatus]: K };
registerEnumType(JobStatusEnum, { name: 'JobStatus' });

export const CueKindEnum = { SUBTITLE: 'SUBTITLE', ON_SCREEN_TEXT: 'ON_SCREEN_TEXT' } as const satisfies { [K in CueKind]: K };
registerEnumType(CueKindEnum, { name: 'CueKind', description: 'A subtitle line, or text read from the picture' });

export const CueSourceEnum = { SIDECAR: 'SIDECAR', EMBEDDED: 'EMBEDDED', OCR: 'OCR' } as const satisfies { [K in CueSource]: K };
registerEnumType(CueSourceEnum, { name: 'CueSource', description: 'Sidecar subtitle file, subtitle stream inside the video, or OCR' });

export const ShotTransitionEnum = { START: 'START', CUT: 'CUT', FADE: 'FADE' } as const satisfies {
  [K in ShotRecord['transition']]: K;
};
registerEnumType(ShotTransitionEnum, { name: 'ShotTransition', description: 'How a shot began' });

export const TextKindEnum = { SUBTITLE: 'SUBTITLE', ON_SCREEN_TEXT: 'ON_SCREEN_TEXT', METADATA: 'METADATA' } as const satisfies {
  [K in TextDocKind]: K;
};
registerEnumType(TextKindEnum, { name: 'TextKind', description: 'What kind of text a search may match' });
