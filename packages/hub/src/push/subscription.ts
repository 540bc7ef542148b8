/** A live subscription: one entry in the subscription index, owned by one connection. */
import type { TopicMatcher } from '../events/topic.ts';
import type { Pattern } from '../routing/pattern/index.ts';
import type { ContentFilter } from './content-filter.ts';
import type { PushConnection } from './push-connection.ts';
import type { ReplayJob } from './replay-job.ts';

export type Subscription = {
  readonly id: string;
  /** `[id]`, made once: the id list of a message that matched only this subscription. */
  readonly idList: readonly string[];
  readonly tenant: string;
  readonly topic: string;
  /** The push channel, when the client subscribed by channel (topic is then its pattern). */
  readonly channel: string | undefined;
  /** The topic pattern compiled, for replays (live matching goes through the index). */
  readonly matchesTopic: TopicMatcher;
  readonly filter: ContentFilter | undefined;
  /** The filter as the client sent it (for listing subscriptions). */
  readonly filterPattern: Pattern | undefined;
  readonly connection: PushConnection;
  /** While set, live matches are buffered by the replay instead of sent (see replay-job.ts). */
  replay: ReplayJob | undefined;
  /**
   * Live events at or below this position were already sent by the replay: dropping them is
   * what keeps the seam between replay and live free of duplicates.
   */
  seam: number;
};
