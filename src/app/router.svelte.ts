// The current hash route as reactive state.
import { parseRoute, type Route } from './router';

export class HashRouter {
  route = $state.raw<Route>({ page: 'home' });
  readonly #ids: readonly string[];
  readonly #update = () => (this.route = parseRoute(location.hash, this.#ids));

  constructor(notebookIds: readonly string[]) {
    this.#ids = notebookIds;
    this.#update();
    addEventListener('hashchange', this.#update);
  }

  destroy(): void {
    removeEventListener('hashchange', this.#update);
  }
}
