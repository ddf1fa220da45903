// The scene and mood vocabulary the scenes stage emits (HEURISTIC tags; rules in
// indexers/scenes.ts) and ads may target, with Chinese names accepted as input.
export const SCENE_LABELS_ZH: Readonly<Record<string, string>> = {
  'close-up': '特写',
  'medium-shot': '中景',
  'wide-shot': '远景',
  'single': '单人',
  'two-shot': '双人',
  crowd: '人群',
  indoor: '室内',
  outdoor: '室外',
  day: '白天',
  night: '夜晚',
  'motion-low': '静态',
  'motion-medium': '中等运动',
  'motion-high': '剧烈运动',
  dialogue: '对白',
  music: '音乐',
  silence: '安静',
  ambient: '环境声',
};

export const MOOD_LABELS_ZH: Readonly<Record<string, string>> = {
  calm: '平静',
  tense: '紧张',
  upbeat: '欢快',
  intimate: '亲密',
};

function canonical(vocabulary: Readonly<Record<string, string>>, name: string): string | null {
  const key = name.trim().toLowerCase().replace(/[\s_]+/g, '-');
  if (key in vocabulary) return key;
  return Object.entries(vocabulary).find(([, zh]) => zh === name.trim())?.[0] ?? null;
}

export const canonicalSceneLabel = (name: string): string | null => canonical(SCENE_LABELS_ZH, name);
export const canonicalMoodLabel = (name: string): string | null => canonical(MOOD_LABELS_ZH, name);
