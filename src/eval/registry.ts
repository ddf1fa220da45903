// Every `vidsearch eval` task, by the manifest's "task" name.
import { adsTask } from './ads.js';
import { facesTask } from './faces.js';
import { imageSearchTask } from './image-search.js';
import { moderationTask } from './moderation.js';
import { presenceTask } from './presence.js';
import { ocrTask } from './ocr.js';
import { searchTask } from './search.js';
import { shotsTask } from './shots.js';
import { speakersTask } from './speakers.js';
import { subtitlesTask } from './subtitles.js';
import type { EvalTask } from './types.js';

export const evalTasks: ReadonlyMap<string, EvalTask> = new Map(
  [searchTask, speakersTask, facesTask, presenceTask, ocrTask, subtitlesTask, shotsTask, imageSearchTask, adsTask, moderationTask].map((task) => [task.task, task]),
);
