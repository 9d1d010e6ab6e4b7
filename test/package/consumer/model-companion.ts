// `./model.js` of the docs (the reader's own API client), here talking to the simulated provider
// (examples/llm/provider.ts) that the package test starts at $PROVIDER_URL. The docs call it as
// callModel(apiKey, prompt, validationErrors), callModel(apiKey, prompt), callModel(prompt) or
// callModel({ prompt, signal }): all are accepted.
import { buildMessages, COMPLETIONS_PATH, DEFAULT_MAX_TOKENS, type ChatResponse } from './protocol.js';

export async function callModel(...args: unknown[]): Promise<{ text: string; usage: { totalTokens: number } }> {
  const options = typeof args[0] === 'object' && args[0] !== null ? (args[0] as { prompt: string; signal?: AbortSignal }) : undefined;
  const prompt = options?.prompt ?? (args.filter((a) => typeof a === 'string').at(-1) as string);
  const validationErrors = (args.find(Array.isArray) as string[] | undefined) ?? [];
  const res = await fetch(`${process.env.PROVIDER_URL}${COMPLETIONS_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'sim', messages: buildMessages(prompt, validationErrors), max_tokens: DEFAULT_MAX_TOKENS }),
    signal: options?.signal,
  });
  if (!res.ok) throw Object.assign(new Error(`${res.status} ${await res.text()}`), { status: res.status });
  const body = (await res.json()) as ChatResponse;
  return { text: body.choices[0]!.message.content, usage: { totalTokens: body.usage.total_tokens } };
}
