import { describe, expect, it } from 'vitest';
import { createGroupCommitter, type Outcome } from './group-commit.ts';

describe('createGroupCommitter', () => {
  it('hands requests submitted in one tick to a single commit, in order', async () => {
    const commits: number[][] = [];
    const committer = createGroupCommitter<number, number>((requests) => {
      commits.push(requests);
      return requests.map((r) => ({ ok: true, value: r * 10 }));
    });
    const results = await Promise.all([1, 2, 3].map((n) => committer.submit(n)));
    expect(results).toEqual([10, 20, 30]);
    expect(commits).toEqual([[1, 2, 3]]);
  });

  it('fails only the requests whose outcome failed', async () => {
    const committer = createGroupCommitter<number, number>((requests) =>
      requests.map((r): Outcome<number> =>
        r === 2 ? { ok: false, error: new Error('bad 2') } : { ok: true, value: r },
      ),
    );
    const settled = await Promise.allSettled([1, 2, 3].map((n) => committer.submit(n)));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('fails every request when the commit itself throws', async () => {
    const committer = createGroupCommitter<number, number>(() => {
      throw new Error('disk full');
    });
    const settled = await Promise.allSettled([1, 2].map((n) => committer.submit(n)));
    expect(settled.every((s) => s.status === 'rejected')).toBe(true);
  });

  it('flush() commits the queue right away', async () => {
    let commits = 0;
    const committer = createGroupCommitter<number, number>((requests) => {
      commits++;
      return requests.map((r) => ({ ok: true, value: r }));
    });
    const pending = committer.submit(7);
    committer.flush();
    expect(commits).toBe(1);
    await expect(pending).resolves.toBe(7);
    committer.flush();
    expect(commits).toBe(1);
  });

  it('groups the requests submitted while an asynchronous commit is out into the next one', async () => {
    const commits: number[][] = [];
    let release: (() => void) | undefined;
    const committer = createGroupCommitter<number, number>(async (requests) => {
      commits.push(requests);
      if (commits.length === 1) await new Promise<void>((resolve) => (release = resolve));
      return requests.map((r) => ({ ok: true, value: -r }));
    });
    const first = committer.submit(1);
    await new Promise((resolve) => setImmediate(resolve)); // the first commit is now out
    const later = [committer.submit(2), committer.submit(3)];
    await new Promise((resolve) => setImmediate(resolve));
    release!();
    expect(await Promise.all([first, ...later])).toEqual([-1, -2, -3]);
    expect(commits).toEqual([[1], [2, 3]]);
  });

  it('fails the requests of an asynchronous commit that rejects', async () => {
    const committer = createGroupCommitter<number, number>(async () => {
      throw new Error('writer gone');
    });
    await expect(committer.submit(1)).rejects.toThrow('writer gone');
  });
});
