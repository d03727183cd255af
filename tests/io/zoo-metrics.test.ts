import { describe, expect, it } from 'vitest';
import { metricLines } from '../../src/lib/io/zoo-metrics';

describe('metricLines', () => {
  it('puts BPD first with its own count, then the sample metrics labelled with their feature network', () => {
    const lines = metricLines({
      'recall_mnist-cnn': 0.25,
      'fid_mnist-cnn': 123.456,
      bpd_test: 2.4913,
      bpd_n: 10000,
      'is_mnist-cnn': 3.14159,
      eval_n: 1000,
    });
    expect(lines).toEqual([
      { label: 'test BPD', value: '2.491', detail: 'n = 10000' },
      { label: 'FID', value: '123.5', detail: 'mnist-cnn features, n = 1000' },
      { label: 'IS', value: '3.14', detail: 'mnist-cnn features, n = 1000' },
      { label: 'recall', value: '0.25', detail: 'mnist-cnn features, n = 1000' },
    ]);
  });

  it('falls back to eval_n for BPD, and is empty without metrics', () => {
    expect(metricLines({ bpd_test: 1, eval_n: 200 })).toEqual([
      { label: 'test BPD', value: '1.000', detail: 'n = 200' },
    ]);
    expect(metricLines(undefined)).toEqual([]);
    expect(metricLines({})).toEqual([]);
  });
});
