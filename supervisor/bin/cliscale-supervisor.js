#!/usr/bin/env node
// Entry point for `npx cliscale-supervisor`; the bundle is built on install (see build.mjs).
import '../dist/cli.js';
