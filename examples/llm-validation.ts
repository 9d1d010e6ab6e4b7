/**
 * Retry until the output is valid, feeding the rejection reason back into the next attempt.
 * The "model" here is a stand-in that gets the format right only when told what was wrong.
 */
import { Worker, RetryValidationError, isMainModule } from '../src/index.js';

export class Extractor extends Worker {
  static module = import.meta.url;

  async extract(text: string): Promise<string> {
    const { attempt, validationErrors } = this.context;
    const hint = validationErrors.at(-1);
    // A fake model: the first answer is prose; with a hint it answers in JSON.
    return hint ? JSON.stringify({ name: text.split(' ')[0], attempt }) : `The name is ${text.split(' ')[0]}.`;
  }
}

const isJsonWithName = (out: string) => {
  try {
    return typeof JSON.parse(out).name === 'string' || 'JSON has no string "name"';
  } catch {
    return 'output is not JSON: answer with a JSON object like {"name": "..."}';
  }
};

if (isMainModule(import.meta.url)) {
  const extractor = Extractor.options({ mode: 'async', numRetries: 2, retryWait: 10, retryUntil: isJsonWithName }).init();
  extractor.on('validation-failed', (e) => console.log(`attempt ${e.attempt} rejected: ${e.reason}`));
  console.log('result:', await extractor.extract('Ada Lovelace'));

  const strict = Extractor.options({ mode: 'async', numRetries: 1, retryWait: 10, retryUntil: () => 'never good enough' }).init();
  const err = await strict.extract('Grace Hopper').exception();
  if (err instanceof RetryValidationError) console.log(`gave up after ${err.attempts} attempts:`, err.validationErrors);
  await Promise.all([extractor.stop(), strict.stop()]);
}
