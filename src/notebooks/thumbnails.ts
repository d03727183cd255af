// The index page's thumbnails: static/thumbnails/<id>.svg, each a notebook's real figure made by
// scripts/make-thumbnails.ts (`npm run thumbnails`), which also writes thumbnails.json: the model
// and settings that made them, for the caption.
import made from './thumbnails.json';

export interface Thumbnail {
  /** relative to the site root, e.g. "thumbnails/separation.svg" */
  file: string;
  /** the figure's name in experiment.figures() */
  figure: string;
  /** what it shows, for people who cannot see it */
  alt: string;
  seed: number;
  /** the `--param` values it was made with */
  params: Record<string, string>;
  /** the zoo model, when not the one named for all (a notebook that needs another kind, e.g. a student) */
  model?: string;
  sha256?: string;
}

export interface Thumbnails {
  /** the zoo model that made them */
  model: string;
  /** SHA-256 of its checkpoint file */
  sha256: string;
  /** YYYY-MM-DD */
  created: string;
  notebooks: Partial<Record<string, Thumbnail>>;
}

export const thumbnails: Thumbnails = made;
