/**
 * Named jitter styles, as the AWS Architecture Blog names them ("Exponential Backoff and Jitter"),
 * mapped onto the engine's two options so there is one backoff formula:
 * - 'full':  wait = U(0, c)                 → retryJitter 1
 * - 'equal': wait = c/2 + U(0, c/2)         → retryJitter 0.5
 * - 'decorrelated': wait = U(w, 3·previous), capped → retryAlgorithm 'decorrelated'
 * - 'none':  wait = c                       → retryJitter 0
 * where c is the algorithm's capped wait for the attempt.
 */
import { configError } from '../config/validate.js';
import type { RetryAlgorithm } from './options.js';

export type JitterStyle = 'full' | 'equal' | 'decorrelated' | 'none';
export const JITTER_STYLES: readonly JitterStyle[] = ['full', 'equal', 'decorrelated', 'none'];

/**
 * The retryJitter fraction and algorithm a jitter option stands for. A number is the fraction
 * itself; a style name maps as above. 'decorrelated' with another explicit retryAlgorithm is
 * contradictory and raises a ConfigError naming retryJitter.
 */
export function resolveJitter(jitter: unknown, algorithm: RetryAlgorithm, algorithmGiven: boolean): { jitter: number; algorithm: RetryAlgorithm } {
  if (typeof jitter === 'number') {
    if (!(jitter >= 0 && jitter <= 1)) throw configError('retryJitter', jitter, `a number from 0 to 1 or one of ${JITTER_STYLES.map((s) => `'${s}'`).join(', ')}`);
    return { jitter, algorithm };
  }
  switch (jitter) {
    case 'full':
      return { jitter: 1, algorithm };
    case 'equal':
      return { jitter: 0.5, algorithm };
    case 'none':
      return { jitter: 0, algorithm };
    case 'decorrelated':
      if (algorithmGiven && algorithm !== 'decorrelated') {
        throw configError('retryJitter', jitter, `a style that fits retryAlgorithm '${algorithm}' ('full', 'equal', 'none' or a number); 'decorrelated' is its own algorithm`);
      }
      return { jitter: 1, algorithm: 'decorrelated' };
    default:
      throw configError('retryJitter', jitter, `a number from 0 to 1 or one of ${JITTER_STYLES.map((s) => `'${s}'`).join(', ')}`);
  }
}
