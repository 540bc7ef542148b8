/** Rules in the state store. Every write also bumps `rules_version` (see migrations.ts). */
import { randomUUID } from 'node:crypto';
import type { Row, SqlDatabase, SqlExecutor } from '../store/sql-database.ts';
import type { Pattern } from './pattern/index.ts';
import type { Owner, Rule, RuleInput, RuleTarget } from './rule.ts';

export class RuleNameTakenError extends Error {
  override name = 'RuleNameTakenError';
}

export class RuleLimitError extends Error {
  override name = 'RuleLimitError';
  readonly limit: number;
  constructor(limit: number) {
    super(`an owner may have at most ${limit} rules`);
    this.limit = limit;
  }
}

/** Rule writes inside a `RuleStore.write` transaction. */
export type RuleWrites = {
  /** Throws RuleLimitError past `maxRules`, RuleNameTakenError when the name is taken. */
  create(owner: Owner, input: RuleInput, maxRules: number): Promise<Rule>;
  /** Undefined when the owner has no such rule. */
  update(owner: Owner, id: string, input: RuleInput): Promise<Rule | undefined>;
  delete(owner: Owner, id: string): Promise<boolean>;
};

export class RuleStore {
  readonly #db: SqlDatabase;
  readonly #clock: () => number;

  constructor(db: SqlDatabase, clock: () => number = Date.now) {
    this.#db = db;
    this.#clock = clock;
  }

  async create(owner: Owner, input: RuleInput, maxRules: number): Promise<Rule> {
    return this.write((_tx, rules) => rules.create(owner, input, maxRules));
  }

  /** Replaces a rule's fields; undefined when the owner has no such rule. */
  async update(owner: Owner, id: string, input: RuleInput): Promise<Rule | undefined> {
    return this.write((_tx, rules) => rules.update(owner, id, input));
  }

  async delete(owner: Owner, id: string): Promise<boolean> {
    return this.write((_tx, rules) => rules.delete(owner, id));
  }

  /**
   * Runs `work` as one rule write: one transaction, the version bump first (its row lock
   * serialises every rule writer, on every node). For capabilities whose own rows must
   * change together with their rules (a webhook endpoint and its managed rule): they
   * write their tables through `tx` and rules through `rules`, and all of it commits or
   * none does.
   */
  async write<T>(work: (tx: SqlExecutor, rules: RuleWrites) => Promise<T>): Promise<T> {
    try {
      return await this.#db.transaction(async (tx) => {
        await tx.execute('update routing_state set rules_version = rules_version + 1 where id = 1');
        return work(tx, this.#writes(tx));
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw new RuleNameTakenError('the name is taken', { cause: error });
      throw error;
    }
  }

  #writes(tx: SqlExecutor): RuleWrites {
    return {
      create: (owner, input, maxRules) => this.#create(tx, owner, input, maxRules),
      update: (owner, id, input) => this.#update(tx, owner, id, input),
      delete: async (owner, id) =>
        (await tx.execute('delete from routing_rules where id = $1 and owner = $2', [id, owner])) >
        0,
    };
  }

  async #create(tx: SqlExecutor, owner: Owner, input: RuleInput, maxRules: number): Promise<Rule> {
    const now = this.#clock();
    const rule: Rule = {
      id: randomUUID(),
      owner,
      ...input,
      createdAt: now,
      updatedAt: now,
      revision: 1,
    };
    const [count] = await tx.query<{ n: number }>(
      'select count(*) as n from routing_rules where owner = $1',
      [owner],
    );
    if (Number(count?.n ?? 0) >= maxRules) throw new RuleLimitError(maxRules);
    await this.#checkName(tx, owner, input.name, undefined);
    await tx.execute(
      `insert into routing_rules (id, owner, name, description, enabled, pattern, targets, created_at, updated_at, revision)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $8, 1)`,
      [rule.id, owner, ...ruleFields(input), now],
    );
    return rule;
  }

  async #update(
    tx: SqlExecutor,
    owner: Owner,
    id: string,
    input: RuleInput,
  ): Promise<Rule | undefined> {
    await this.#checkName(tx, owner, input.name, id);
    const changed = await tx.execute(
      `update routing_rules set name = $3, description = $4, enabled = $5, pattern = $6, targets = $7,
         updated_at = $8, revision = revision + 1
       where id = $1 and owner = $2`,
      [id, owner, ...ruleFields(input), this.#clock()],
    );
    if (changed === 0) return undefined;
    const [row] = await tx.query('select * from routing_rules where id = $1', [id]);
    return row ? toRule(row) : undefined;
  }

  async get(id: string): Promise<Rule | undefined> {
    const [row] = await this.#db.query('select * from routing_rules where id = $1', [id]);
    return row ? toRule(row) : undefined;
  }

  /** One owner's rules by name; `after` is the last name of the previous page. */
  async list(owner: Owner, page: { limit: number; after?: string }): Promise<Rule[]> {
    const rows =
      page.after === undefined
        ? await this.#db.query(
            'select * from routing_rules where owner = $1 order by name limit $2',
            [owner, page.limit],
          )
        : await this.#db.query(
            'select * from routing_rules where owner = $1 and name > $2 order by name limit $3',
            [owner, page.after, page.limit],
          );
    return rows.map(toRule);
  }

  async listEnabled(): Promise<Rule[]> {
    return (await this.#db.query('select * from routing_rules where enabled = 1 order by id')).map(
      toRule,
    );
  }

  async version(): Promise<number> {
    const [row] = await this.#db.query<{ v: number }>(
      'select rules_version as v from routing_state where id = 1',
    );
    return Number(row?.v ?? 0);
  }

  async #checkName(
    tx: SqlExecutor,
    owner: Owner,
    name: string,
    except: string | undefined,
  ): Promise<void> {
    const rows = await tx.query<{ id: string }>(
      'select id from routing_rules where owner = $1 and name = $2',
      [owner, name],
    );
    if (rows.some((r) => r.id !== except))
      throw new RuleNameTakenError(`a rule named "${name}" exists`);
  }
}

/** The backstop for a race the version-row lock should already prevent. */
function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown; errcode?: unknown; message?: unknown };
  return (
    e.code === '23505' ||
    e.errcode === 2067 ||
    (typeof e.message === 'string' && e.message.includes('UNIQUE constraint failed'))
  );
}

function toRule(r: Row): Rule {
  return {
    id: r['id'] as string,
    owner: r['owner'] as string,
    name: r['name'] as string,
    description: r['description'] as string,
    enabled: Number(r['enabled']) === 1,
    pattern: JSON.parse(r['pattern'] as string) as Pattern,
    targets: JSON.parse(r['targets'] as string) as RuleTarget[],
    createdAt: Number(r['created_at']),
    updatedAt: Number(r['updated_at']),
    revision: Number(r['revision']),
  };
}

/** A rule's own columns in statement order: name, description, enabled, pattern, targets. */
function ruleFields(input: RuleInput): unknown[] {
  return [
    input.name,
    input.description,
    input.enabled,
    JSON.stringify(input.pattern),
    JSON.stringify(input.targets),
  ];
}
