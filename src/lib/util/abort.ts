// Cancellation: long computations check their AbortSignal between steps.

/** Throws an AbortError DOMException when `signal` has been aborted; `what` names the work cancelled. */
export function throwIfAborted(signal: AbortSignal | undefined, what = 'cancelled'): void {
  if (signal?.aborted) throw new DOMException(what, 'AbortError');
}
