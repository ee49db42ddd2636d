import { ActivityCancellationType, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { MediaActivities, RenderPlanInput, RenderProgress, RenderResult } from '@gptmarket/contracts';

const mediaOn = (mediaQueue: string) =>
  proxyActivities<MediaActivities>({
    taskQueue: mediaQueue,
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '5 seconds',
    retry: { maximumAttempts: 1 },
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });

/** Test workflow: one render on the media queue, cancellable, no retries (what RubyWorkflow does, minus the rest). */
export async function renderOnce(plan: RenderPlanInput, mediaQueue: string): Promise<RenderResult> {
  return mediaOn(mediaQueue).renderVideo(plan);
}

/**
 * One render, recording the progress signals (named by the caller: this bundle imports contracts' types only)
 * that reached the workflow before its result did.
 */
export async function renderRecordingProgress(
  plan: RenderPlanInput,
  mediaQueue: string,
  signalName: string,
): Promise<{ result: RenderResult; signals: number[] }> {
  const signals: number[] = [];
  setHandler(defineSignal<[RenderProgress]>(signalName), ({ pct }) => void signals.push(pct));
  const result = await mediaOn(mediaQueue).renderVideo(plan);
  return { result, signals: [...signals] };
}
