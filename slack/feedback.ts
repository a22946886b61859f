// Answers to the person who clicked: an ephemeral message where they clicked, or a notice on their App Home tab.
import type { Logger } from '../src/logger';
import type { HomePublisher } from './home';
import type { WebClient } from './web-client';

export interface ClickOrigin {
  slackUser: string;
  /** The channel of the message clicked; absent for clicks on the App Home tab. */
  channel?: string;
}

/**
 * Tells the clicker `text`, then refreshes their App Home tab if it may be open (decisions change what waits for
 * them). The refresh lists and reads requests, so it is skipped for a tab nobody has opened lately: on a busy
 * process it would compete with the execution the decision just started.
 */
export async function tellClicker(
  client: WebClient,
  home: HomePublisher,
  logger: Logger,
  origin: ClickOrigin,
  text: string,
): Promise<void> {
  if (!origin.channel) {
    await home.publish(client, origin.slackUser, text);
    return;
  }
  try {
    await client.chat.postEphemeral({ channel: origin.channel, user: origin.slackUser, text });
  } catch (err) {
    logger.warn(
      { slackUser: origin.slackUser, err: err instanceof Error ? err.message : String(err) },
      'ephemeral answer failed',
    );
  }
  await home.refresh(client, origin.slackUser);
}
