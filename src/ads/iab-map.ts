// What a moment is "about" in the advertisers' vocabulary: COCO objects and scene tags mapped to
// IAB content categories (IAB Tech Lab Content Taxonomy 1.0 codes: "IAB8" is Food & Drink,
// "IAB8-18" its Wine subcategory). A detected cup makes the moment relevant to IAB8 ads; the
// matcher also lets a parent category match its subcategories (and back) at a lower weight.

/** Top-level IAB 1.0 tiers, for readable reasons. */
export const IAB_TIER1_NAMES: Readonly<Record<string, string>> = {
  IAB1: 'Arts & Entertainment',
  IAB2: 'Automotive',
  IAB3: 'Business',
  IAB5: 'Education',
  IAB6: 'Family & Parenting',
  IAB7: 'Health & Fitness',
  IAB8: 'Food & Drink',
  IAB9: 'Hobbies & Interests',
  IAB10: 'Home & Garden',
  IAB13: 'Personal Finance',
  IAB14: 'Society',
  IAB16: 'Pets',
  IAB17: 'Sports',
  IAB18: 'Style & Fashion',
  IAB19: 'Technology & Computing',
  IAB20: 'Travel',
  IAB22: 'Shopping',
};

/** COCO label → IAB categories the object signals. Objects absent here (person, chair, …) say little. */
export const OBJECT_IAB: Readonly<Record<string, readonly string[]>> = {
  bicycle: ['IAB17', 'IAB7'],
  car: ['IAB2'],
  motorcycle: ['IAB2', 'IAB2-14'],
  truck: ['IAB2', 'IAB2-20'],
  bus: ['IAB20'],
  train: ['IAB20'],
  airplane: ['IAB20', 'IAB20-1'],
  boat: ['IAB20', 'IAB20-6'],
  suitcase: ['IAB20'],
  backpack: ['IAB20', 'IAB18'],
  handbag: ['IAB18', 'IAB18-4'],
  tie: ['IAB18'],
  umbrella: ['IAB18'],
  dog: ['IAB16', 'IAB16-5'],
  cat: ['IAB16', 'IAB16-4'],
  bird: ['IAB16', 'IAB16-3'],
  horse: ['IAB16', 'IAB17'],
  'sports ball': ['IAB17'],
  'baseball bat': ['IAB17', 'IAB17-4'],
  'baseball glove': ['IAB17', 'IAB17-4'],
  'tennis racket': ['IAB17', 'IAB17-40'],
  skis: ['IAB17', 'IAB17-34'],
  snowboard: ['IAB17', 'IAB17-34'],
  surfboard: ['IAB17', 'IAB17-35'],
  skateboard: ['IAB17'],
  frisbee: ['IAB17'],
  kite: ['IAB9'],
  bottle: ['IAB8'],
  'wine glass': ['IAB8', 'IAB8-18'],
  cup: ['IAB8', 'IAB8-6'],
  fork: ['IAB8'],
  knife: ['IAB8'],
  spoon: ['IAB8'],
  bowl: ['IAB8'],
  banana: ['IAB8'],
  apple: ['IAB8'],
  sandwich: ['IAB8'],
  orange: ['IAB8'],
  broccoli: ['IAB8', 'IAB8-16'],
  carrot: ['IAB8', 'IAB8-16'],
  'hot dog': ['IAB8'],
  pizza: ['IAB8'],
  donut: ['IAB8', 'IAB8-15'],
  cake: ['IAB8', 'IAB8-15'],
  'dining table': ['IAB8'],
  couch: ['IAB10'],
  bed: ['IAB10'],
  'potted plant': ['IAB10', 'IAB10-4'],
  vase: ['IAB10'],
  microwave: ['IAB10', 'IAB10-1'],
  oven: ['IAB10', 'IAB10-1'],
  toaster: ['IAB10', 'IAB10-1'],
  refrigerator: ['IAB10', 'IAB10-1'],
  sink: ['IAB10'],
  toilet: ['IAB10'],
  tv: ['IAB19', 'IAB1'],
  laptop: ['IAB19'],
  mouse: ['IAB19'],
  keyboard: ['IAB19'],
  remote: ['IAB19'],
  'cell phone': ['IAB19', 'IAB19-6'],
  'hair drier': ['IAB18', 'IAB18-1'],
  toothbrush: ['IAB7'],
  book: ['IAB1', 'IAB5'],
  clock: ['IAB18'],
  'teddy bear': ['IAB6'],
};

/** Scene/mood tag → IAB categories it makes plausible (weaker than objects: rules, not sightings). */
export const SCENE_IAB: Readonly<Record<string, readonly string[]>> = {
  outdoor: ['IAB20'],
  music: ['IAB1'],
  upbeat: ['IAB1'],
  crowd: ['IAB14'],
  night: ['IAB1'],
};

/** "IAB8-18" → "IAB8"; a tier-1 code is its own tier 1. */
export function iabTier1(code: string): string {
  const dash = code.indexOf('-');
  return dash < 0 ? code : code.slice(0, dash);
}

/** A syntactically valid IAB 1.0 code: IAB<n> or IAB<n>-<m>. */
export function isIabCode(code: string): boolean {
  return /^IAB\d{1,2}(-\d{1,3})?$/.test(code);
}

/** IAB categories a tag signals. */
export function categoriesOfTag(kind: 'OBJECT' | 'SCENE' | 'MOOD', label: string): readonly string[] {
  return (kind === 'OBJECT' ? OBJECT_IAB[label] : SCENE_IAB[label]) ?? [];
}
