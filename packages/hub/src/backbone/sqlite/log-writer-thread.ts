/**
 * The event log's writer thread: owns the one connection that writes (appends, leases,
 * acks, group changes, retention). `node:sqlite` is synchronous, so a commit and its
 * fsync block whichever thread runs them; here they block only this thread, and requests
 * that arrive meanwhile queue up and join the next transaction (group commit).
 *
 * Requests come on `workerData.port`, each message an array of them (what the main thread
 * asked in one tick). After each message the thread drains everything else already queued
 * (receiveMessageOnPort), runs it in order, folds consecutive appends (and consecutive
 * acks/terms) into one transaction each, and answers the whole run in one message.
 */
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { createAppender } from './appender.ts';
import { createConsumerGroups } from './consumer-groups.ts';
import { registerTopicMatcher } from './event-filter.ts';
import { createRetention } from './retention.ts';
import { openLogDatabase } from './schema.ts';
import { createStatementCache } from './statement-cache.ts';
import { createDurabilitySwitch, writeTransaction } from './transactions.ts';
import {
  encodeError,
  type WriterEnvelope,
  type WriterReply,
  type WriterRequest,
  type WriterValue,
} from './writer-protocol.ts';

export type WriterThreadData = {
  port: MessagePort;
  path: string;
  partitions: number;
  dedupeWindowMs: number;
};

const { port, path, partitions, dedupeWindowMs } = workerData as WriterThreadData;

const db = openLogDatabase(path);
registerTopicMatcher(db);
const setDurability = createDurabilitySwitch(db);
const statements = createStatementCache(db);
const appender = createAppender(db, { partitions, dedupeWindowMs, setDurability });
const groups = createConsumerGroups(db, { statements, setDurability });
const retention = createRetention(db, { dedupeWindowMs, setDurability });
let commitSequence = 0;

type Of<K extends WriterRequest['op']> = Extract<WriterRequest, { op: K }>;
type Pending<K extends WriterRequest['op']> = { id: number; request: Of<K> };

// Replies are collected while a run of queued requests executes and posted together.
let replies: WriterReply[] = [];
const reply = (message: WriterReply): void => void replies.push(message);
const sendReplies = (): void => {
  if (replies.length === 0) return;
  port.postMessage(replies);
  replies = [];
};
const fail = (id: number, error: unknown): void =>
  reply({ id, ok: false, error: encodeError(error) });

/** Appends of several messages in one transaction; each message gets its own outcomes. */
function appendAll(pending: Pending<'append'>[]): void {
  // One `now` for the transaction (the latest asked), so dedupe windows compare alike.
  const now = Math.max(...pending.map((p) => p.request.now));
  const batches = pending.flatMap((p) => p.request.batches);
  let outcomes;
  try {
    outcomes = appender(batches, now);
  } catch (error) {
    for (const p of pending) fail(p.id, error);
    return;
  }
  const commit = ++commitSequence;
  let offset = 0;
  for (const p of pending) {
    const count = p.request.batches.length;
    const value: WriterValue['append'] = {
      outcomes: outcomes.slice(offset, offset + count),
      now,
      commit,
    };
    offset += count;
    reply({ id: p.id, ok: true, value });
  }
}

/** Acks and terms of several messages in one transaction (no fsync: see transactions.ts). */
function settleAll(pending: Pending<'settle'>[]): void {
  let answers: WriterValue['settle'][];
  try {
    setDurability('NORMAL');
    answers = writeTransaction(db, () =>
      pending.map((p) =>
        p.request.settlements.map((s): WriterValue['settle'][number] => {
          try {
            return { ok: true, value: groups[s.kind](s.group, s.token) };
          } catch (error) {
            return { ok: false, error: encodeError(error) };
          }
        }),
      ),
    );
  } catch (error) {
    for (const p of pending) fail(p.id, error);
    return;
  }
  pending.forEach((p, i) => reply({ id: p.id, ok: true, value: answers[i] }));
}

function runOne(id: number, request: WriterRequest): void {
  try {
    let value: unknown;
    switch (request.op) {
      case 'lease':
        value = groups.lease(
          request.group,
          request.consumer,
          request.max,
          request.now,
          request.omitBodies,
        );
        break;
      case 'nack':
        value = groups.nack(request.group, request.token, request.delayMs, request.now);
        break;
      case 'ensureGroup':
        value = groups.ensure(request.spec, request.limits);
        break;
      case 'deleteGroup':
        value = groups.delete(request.name);
        break;
      case 'retention':
        value = retention(request.policy, request.now);
        break;
      case 'close':
        db.close();
        // The main thread terminates this thread once it has the answer.
        reply({ id, ok: true, value: undefined });
        return;
      default:
        throw new Error(`writer thread: unknown request ${JSON.stringify(request)}`);
    }
    reply({ id, ok: true, value });
  } catch (error) {
    fail(id, error);
  }
}

function runQueued(first: WriterEnvelope[]): void {
  try {
    runAll(first);
  } finally {
    sendReplies();
  }
}

function runAll(first: WriterEnvelope[]): void {
  const queued: WriterEnvelope[] = [...first];
  for (let next = receiveMessageOnPort(port); next !== undefined; next = receiveMessageOnPort(port))
    queued.push(...(next.message as WriterEnvelope[]));

  for (let i = 0; i < queued.length;) {
    const op = queued[i]!.request.op;
    if (op === 'append' || op === 'settle') {
      let end = i;
      while (end < queued.length && queued[end]!.request.op === op) end++;
      const run = queued.slice(i, end).map(({ id, request }) => ({ id, request }));
      if (op === 'append') {
        appendAll(run as Pending<'append'>[]);
        // Publishers wait on these: answered at once, not after the rest of the run.
        sendReplies();
      } else settleAll(run as Pending<'settle'>[]);
      i = end;
    } else {
      runOne(queued[i]!.id, queued[i]!.request);
      if (op === 'close') return;
      i++;
    }
  }
}

port.on('message', runQueued);
