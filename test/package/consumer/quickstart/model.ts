// The API client the README's quickstart imports as './model.js', here talking to the simulated
// provider (examples/llm/provider.ts) that the package test starts at $PROVIDER_URL.
import { buildMessages, COMPLETIONS_PATH, DEFAULT_MAX_TOKENS, type ChatResponse } from './protocol.js';

export async function callModel(apiKey: string, prompt: string, validationErrors: readonly string[]): Promise<{ text: string; usage: { totalTokens: number } }> {
  const res = await fetch(`${process.env.PROVIDER_URL}${COMPLETIONS_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ model: 'sim', messages: buildMessages(prompt, validationErrors), max_tokens: DEFAULT_MAX_TOKENS }),
  });
  if (!res.ok) throw Object.assign(new Error(`${res.status} ${await res.text()}`), { status: res.status });
  const body = (await res.json()) as ChatResponse;
  return { text: body.choices[0]!.message.content, usage: { totalTokens: body.usage.total_tokens } };
}
