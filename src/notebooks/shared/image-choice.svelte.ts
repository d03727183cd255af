// Which image a cell works on: a test-set image (chosen by the cell's index parameter), an
// uploaded picture or a drawing, both resized to the model's input.
import type { ImageInput } from '../../lib/experiments/types';

export type ImageSource = 'dataset' | 'upload' | 'draw';

export class ImageChoice {
  source = $state<ImageSource>('dataset');
  /** the uploaded picture at the model's size */
  uploaded = $state.raw<ImageInput | null>(null);
  uploadName = $state.raw<string | null>(null);
  /** the drawing at the model's size */
  drawn = $state.raw<ImageInput | null>(null);
  /** class label given with an uploaded or drawn image; −1: the null label */
  label = $state(-1);

  /** What the cell passes to the experiment: null for a test-set image (the index parameter picks it). */
  get input(): ImageInput | null {
    const img = this.source === 'upload' ? this.uploaded : this.source === 'draw' ? this.drawn : null;
    if (!img) return null;
    return this.label >= 0 ? { ...img, label: this.label } : img;
  }
}
