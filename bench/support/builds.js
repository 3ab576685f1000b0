// The builds of nestjs-mesa a run compares: this checkout's ./dist (`nestjs`) and, with BENCH_BASELINE, another
// checkout's (`baseline`). loadBuild() imports one together with the packages an application of that checkout
// loads beside it (ioredis for raw publishes, @cryb/mesa's Dispatcher, Nest), each resolved from that checkout, so
// that a process hosting one build runs what that build's application would.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { config } from './config.js';

/** `git rev-parse --short HEAD` of `dir`, with `+changes` when its lib/ differs from that commit; 'unknown' outside git. */
export function revision(dir) {
  try {
    const git = (...args) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const rev = git('rev-parse', '--short', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no', '--', 'lib') ? `${rev}+changes` : rev;
  } catch {
    return 'unknown';
  }
}

/** The builds to compare, in order: { name: 'nestjs' | 'baseline', dir, rev }. */
export function buildsToCompare() {
  const builds = [{ name: 'nestjs', dir: config.repoRoot, rev: revision(config.repoRoot) }];
  if (config.baseline) builds.push({ name: 'baseline', dir: config.baseline, rev: revision(config.baseline) });
  return builds;
}

const loaded = new Map();

/**
 * The build in checkout `dir` (default this one): { dir, mesa (its dist module), Redis, MesaDispatcher,
 * MesaMessage, Injectable, Test }, the packages resolved from `dir` as that checkout's own code resolves them.
 */
export async function loadBuild(dir = config.repoRoot) {
  if (!loaded.has(dir)) {
    const require = createRequire(join(dir, 'package.json'));
    const mesa = await import(pathToFileURL(join(dir, 'dist', 'index.js')).href);
    const { Dispatcher, Message } = require('@cryb/mesa');
    loaded.set(dir, {
      dir,
      mesa,
      Redis: require('ioredis').Redis,
      MesaDispatcher: Dispatcher,
      MesaMessage: Message,
      Injectable: require('@nestjs/common').Injectable,
      Test: require('@nestjs/testing').Test,
    });
  }
  return loaded.get(dir);
}
