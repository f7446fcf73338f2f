// distill serve against the official openai client (a client nobody here wrote).
// Usage: node conformance.mjs BASE_URL MODEL [CASE...]   (no CASE: every case)
// Exits 0 when every case passes; prints one line per case. Run by tests/Distill.Tests/Serving/ConformanceTests.cs.
import OpenAI from 'openai';
import assert from 'node:assert/strict';

const [baseURL, model, ...only] = process.argv.slice(2);
if (!baseURL || !model) {
  console.error('usage: node conformance.mjs BASE_URL MODEL [CASE...]');
  process.exit(2);
}
const client = new OpenAI({ baseURL, apiKey: 'not-checked', maxRetries: 0, timeout: 120_000 });
const user = (content) => [{ role: 'user', content }];

async function rejects(promise, ErrorType, status, check) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof ErrorType, `expected ${ErrorType.name}, got ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.status, status);
    assert.equal(typeof e.error?.message, 'string');
    check?.(e);
    return;
  }
  assert.fail(`expected ${ErrorType.name}`);
}

const cases = {
  async models() {
    const page = await client.models.list();
    assert.ok(page.data.some((m) => m.id === model && m.object === 'model'));
  },

  async chat() {
    const r = await client.chat.completions.create({ model, messages: user('Hello Pong'), temperature: 0, max_tokens: 8 });
    assert.equal(r.object, 'chat.completion');
    assert.equal(r.choices.length, 1);
    assert.equal(r.choices[0].message.role, 'assistant');
    assert.equal(typeof r.choices[0].message.content, 'string');
    assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
    assert.ok(r.usage.completion_tokens <= 8);
  },

  async seeded_n() {
    const request = { model, messages: user('Ping'), temperature: 1, max_tokens: 6, n: 2, seed: 7 };
    const a = await client.chat.completions.create(request);
    const b = await client.chat.completions.create(request);
    assert.deepEqual(a.choices.map((c) => c.index), [0, 1]);
    assert.deepEqual(a.choices.map((c) => c.message.content), b.choices.map((c) => c.message.content));
  },

  async stream() {
    const request = { model, messages: user('Hello'), temperature: 1, max_tokens: 10, seed: 3 };
    const whole = await client.chat.completions.create(request);
    const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let finish = null;
    let usage = null;
    for await (const chunk of stream) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      for (const c of chunk.choices) {
        text += c.delta?.content ?? '';
        finish = c.finish_reason ?? finish;
      }
      usage = chunk.usage ?? usage;
    }
    assert.equal(text, whole.choices[0].message.content);
    assert.equal(finish, whole.choices[0].finish_reason);
    assert.equal(usage.completion_tokens, whole.usage.completion_tokens);
  },

  async logprobs() {
    const r = await client.chat.completions.create({
      model, messages: user('a bc'), temperature: 0, max_tokens: 6, logprobs: true, top_logprobs: 5,
    });
    const content = r.choices[0].logprobs.content;
    assert.equal(content.length, r.usage.completion_tokens);
    for (const t of content) {
      assert.equal(typeof t.token, 'string');
      assert.ok(t.logprob <= 0);
      assert.equal(t.top_logprobs.length, 5);
      for (let i = 1; i < 5; i++) assert.ok(t.top_logprobs[i - 1].logprob >= t.top_logprobs[i].logprob);
      // Greedy picks the most likely token.
      assert.ok(Math.abs(t.logprob - t.top_logprobs[0].logprob) < 1e-6);
    }
  },

  async completions_echo() {
    const r = await client.completions.create({ model, prompt: 'Hello Pong', max_tokens: 0, echo: true, logprobs: 1 });
    const lp = r.choices[0].logprobs;
    assert.equal(r.choices[0].text, 'Hello Pong');
    assert.equal(lp.tokens.length, r.usage.prompt_tokens);
    assert.equal(lp.token_logprobs[0], null);
    for (const v of lp.token_logprobs.slice(1)) assert.ok(typeof v === 'number' && v <= 0);
  },

  async error_bad_parameter() {
    await rejects(client.chat.completions.create({ model, messages: user('x'), temperature: 5 }), OpenAI.BadRequestError, 400,
      (e) => assert.equal(e.param, 'temperature'));
  },

  async error_unknown_model() {
    await rejects(client.chat.completions.create({ model: 'no-such-model', messages: user('x') }), OpenAI.NotFoundError, 404,
      (e) => assert.equal(e.code, 'model_not_found'));
  },

  async error_context_length() {
    await rejects(client.chat.completions.create({ model, messages: user('x'), max_tokens: 100000 }), OpenAI.BadRequestError, 400,
      (e) => assert.equal(e.code, 'context_length_exceeded'));
  },
};

let failed = 0;
for (const name of only.length ? only : Object.keys(cases)) {
  if (!cases[name]) {
    console.log(`FAIL ${name}: no such case`);
    failed++;
    continue;
  }
  try {
    await cases[name]();
    console.log(`ok   ${name}`);
  } catch (e) {
    console.log(`FAIL ${name}: ${e?.stack ?? e}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
