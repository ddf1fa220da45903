// Every `vidsearch eval` task, by the manifest's "task" name.
import { facesTask } from './faces.js';
import { presenceTask } from './presence.js';
import { searchTask } from './search.js';
import { speakersTask } from './speakers.js';
import type { EvalTask } from './types.js';

export const evalTasks: ReadonlyMap<string, EvalTask> = new Map(
  [searchTask, speakersTask, facesTask, presenceTask].map((task) => [task.task, task]),
);
