#!/usr/bin/env -S node --disable-warning=ExperimentalWarning
// The CLI is TypeScript run by Node 24's built-in type stripping: no build step.
import '../src/main.ts';
