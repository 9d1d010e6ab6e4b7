// Stands for the LLM worker class the docs build in getting-started.md, imported as './llm.js'.
import { Worker } from 'concurry';
import { callModel } from './model.js';

export class LLM extends Worker {
  static module = import.meta.url;
  constructor(private readonly apiKey: string = '') {
    super();
  }
  async complete(prompt: string): Promise<string> {
    return (await callModel(this.apiKey, prompt)).text;
  }
  async summarize(text: string): Promise<string> {
    return this.complete(`Summarize: ${text}`);
  }
  async embed(text: string): Promise<number[] | null> {
    return [text.length];
  }
}
