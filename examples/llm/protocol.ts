/**
 * What the simulated provider and its clients agree on: the chat-completions wire format, the
 * token counter (both sides must count the same way, as a real client would use the provider's
 * tokenizer), the prompt a client builds, and the batch of tasks. Kept free of node:http so
 * worker threads that import the client don't load the server.
 */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  max_tokens: number;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface ChatResponse {
  id: string;
  object: 'chat.completion';
  model: string;
  choices: { index: number; message: ChatMessage; finish_reason: 'stop' }[];
  usage: Usage;
}

/** The JSON body of every error response. */
export interface ErrorBody {
  /** `code` as OpenAI sends it (e.g. 'rate_limit_exceeded'); the openai SDK puts it on its errors. */
  error: { type: string; message: string; code?: string };
}

export const COMPLETIONS_PATH = '/v1/chat/completions';
/** Lists models; not rate limited. The benchmark's plain-fetch clients call it once to load fetch and open a connection. */
export const MODELS_PATH = '/v1/models';

/**
 * Counts a prompt's tokens, like Anthropic's `count_tokens`: free, not counted against the
 * completion limits. Clients call it before a batch to open their connections and warm the
 * request path, so the first requests arrive when they were sent.
 */
export const COUNT_TOKENS_PATH = '/v1/count_tokens';

export interface CountTokensRequest {
  model: string;
  messages: ChatMessage[];
}

export interface CountTokensResponse {
  input_tokens: number;
}

/** Completion budget a client asks for; the provider charges it against TPM up front. */
export const DEFAULT_MAX_TOKENS = 120;

/** About four characters per token, like English text under BPE tokenizers. */
export function countTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Tokens of a prompt: its contents plus a small per-message overhead (role and separators). */
export function promptTokens(messages: readonly ChatMessage[]): number {
  let n = 0;
  for (const m of messages) n += 4 + countTokens(m.content);
  return n;
}

/**
 * What the provider charges against tokens-per-minute when a request arrives: the prompt plus the
 * whole completion budget (as OpenAI does), so a client can compute it exactly before sending.
 */
export function chargedTokens(request: Pick<ChatRequest, 'messages' | 'max_tokens'>): number {
  return promptTokens(request.messages) + request.max_tokens;
}

export const SYSTEM_PROMPT =
  'Classify the sentiment of the review. Reply with only a JSON object: ' +
  '{"sentiment": "positive" | "negative" | "neutral", "confidence": number from 0 to 1, "summary": string}.';

/** Prefix of the message that carries earlier rejections back to the model. */
export const FEEDBACK_PREFIX = 'Your previous answer was rejected:';

/** The prompt for one task; `validationErrors` (from `this.context`) become a correction request. */
export function buildMessages(task: string, validationErrors: readonly string[] = []): ChatMessage[] {
  const messages: ChatMessage[] = [
    { role: 'system', content: SYSTEM_PROMPT },
    { role: 'user', content: task },
  ];
  if (validationErrors.length > 0) {
    messages.push({ role: 'user', content: `${FEEDBACK_PREFIX} ${validationErrors.join(' | ')}. Reply again with only the corrected JSON object.` });
  }
  return messages;
}

export const POSITIVE_WORDS = ['great', 'lovely', 'reliable', 'fast', 'delightful', 'sturdy', 'excellent', 'friendly'];
export const NEGATIVE_WORDS = ['broken', 'slow', 'rude', 'flimsy', 'awful', 'noisy', 'late', 'confusing'];
const NEUTRAL_WORDS = ['blue', 'square', 'boxed', 'standard', 'medium', 'plain', 'ordinary', 'usual'];
const ITEMS = ['kettle', 'bicycle', 'headphones', 'backpack', 'desk lamp', 'coffee grinder', 'umbrella', 'keyboard', 'tent', 'blender'];

/** `n` distinct review-classification tasks, the same for a given `n` (so runs are comparable). */
export function makeTasks(n: number): string[] {
  const tasks: string[] = [];
  for (let i = 0; i < n; i++) {
    const pick = (list: readonly string[], salt: number) => list[(i * 7 + salt * 13 + ((i * salt) % 5)) % list.length]!;
    const mood = i % 3;
    const words = mood === 0 ? [pick(POSITIVE_WORDS, 1), pick(POSITIVE_WORDS, 2)] : mood === 1 ? [pick(NEGATIVE_WORDS, 1), pick(NEGATIVE_WORDS, 3)] : [pick(NEUTRAL_WORDS, 1), pick(NEUTRAL_WORDS, 2)];
    tasks.push(`Review #${i + 1}: "The ${pick(ITEMS, 4)} arrived ${words[0]} and felt ${words[1]}; it does what the box says."`);
  }
  return tasks;
}
