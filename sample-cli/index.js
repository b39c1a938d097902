#!/usr/bin/env node
// An example job worth watching in a browser terminal. No dependencies: it installs in no time.
//   PROMPT          shown as the task (cliscale passes the session's `prompt` here)
//   --answer N      answer the question without asking (for scripted runs); so does env ANSWER
// Exit code: the number of stars given (0-5), so the answer decides success (0) or failure (1-5).
import { createInterface } from 'node:readline/promises';

const c = (code) => (text) => (process.stdout.isTTY ? `\x1b[${code}m${text}\x1b[0m` : text);
const bold = c('1');
const green = c('32');
const cyan = c('36');
const yellow = c('33');
const dim = c('2');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function spinner(label, ms) {
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  const started = Date.now();
  for (let i = 0; Date.now() - started < ms; i++) {
    process.stdout.write(`\r${cyan(frames[i % frames.length])} ${label}`);
    await sleep(80);
  }
  process.stdout.write(`\r${green('✔')} ${label}\n`);
}

async function progress(label, steps) {
  const width = 30;
  for (let i = 0; i <= steps; i++) {
    const done = Math.round((i / steps) * width);
    process.stdout.write(`\r${label} [${green('█'.repeat(done))}${dim('░'.repeat(width - done))}] ${String(Math.round((i / steps) * 100)).padStart(3)}%`);
    await sleep(40);
  }
  process.stdout.write('\n');
}

async function ask() {
  const flag = process.argv.indexOf('--answer');
  const given = flag >= 0 ? process.argv[flag + 1] : process.env.ANSWER;
  if (given !== undefined) return given;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return await rl.question(`${yellow('?')} ${bold('How many stars would you give this demo? (0-5) ')}`);
  } finally {
    rl.close();
  }
}

const task = process.env.PROMPT || 'show what a cliscale session looks like';
console.log(bold(cyan('cliscale sample job')));
console.log(`${dim('task:')} ${task}`);
await spinner('thinking about it', 1200);
await progress('working', 40);
let stars = Number.NaN;
while (!(Number.isInteger(stars) && stars >= 0 && stars <= 5)) {
  const answer = (await ask()).trim();
  stars = Number(answer);
  if (!(Number.isInteger(stars) && stars >= 0 && stars <= 5)) {
    console.log(yellow(`"${answer}" is not a number from 0 to 5`));
    if (process.env.ANSWER !== undefined || process.argv.includes('--answer')) process.exit(64);
  }
}
console.log(`\n${bold('summary')}`);
console.log(`  task:   ${task}`);
console.log(`  stars:  ${yellow('★'.repeat(stars))}${dim('☆'.repeat(5 - stars))}`);
console.log(`  result: ${stars === 0 ? green('exit code 0 (success)') : yellow(`exit code ${stars}`)}`);
process.exit(stars);
