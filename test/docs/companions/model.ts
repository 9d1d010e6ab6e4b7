// Stands for the reader's own API client, which the docs import as './model.js'.
export interface ModelResponse {
  text: string;
  usage: { totalTokens: number };
}

export declare function callModel(...args: unknown[]): Promise<ModelResponse>;
