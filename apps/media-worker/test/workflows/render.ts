import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { MediaActivities, RenderPlanInput, RenderResult } from '@gptmarket/contracts';

/** Test workflow: one render on the media queue, cancellable, no retries (what RubyWorkflow does, minus the rest). */
export async function renderOnce(plan: RenderPlanInput, mediaQueue: string): Promise<RenderResult> {
  const media = proxyActivities<MediaActivities>({
    taskQueue: mediaQueue,
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '5 seconds',
    retry: { maximumAttempts: 1 },
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
  return media.renderVideo(plan);
}
