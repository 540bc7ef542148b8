/**
 * The bundle the adapter browser tests load: the SDK, its React adapter, and React itself
 * (a portal would bring its own React; the test page has no other way to get it).
 */
import './browser-process-env.ts';

export * from '../src/index.ts';
export { ShellProvider, useBusEvent, useShell, useSubscription } from '../src/adapters/react.ts';
export { createElement, useState } from 'react';
export { createRoot } from 'react-dom/client';
