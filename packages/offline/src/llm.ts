/** What the offline LLM reads of a chat request (the provider clients' request has these fields and more). */
export interface LocalLlmRequest {
  system: string;
  user: string;
  json: boolean;
}
export interface LocalLlmResult {
  content: string;
  parsed: unknown | null;
  model: 'local';
  provider: 'local';
  fallbackUsed: false;
}
export interface LocalLlm {
  complete(req: LocalLlmRequest, signal?: AbortSignal): Promise<LocalLlmResult>;
}

/**
 * The offline LLM: deterministic answers in the shape the shipped templates ask for (queries, movements +
 * final_prompt, a Markdown summary), so every workflow runs end to end without a key.
 */
export function createLocalLlm(): LocalLlm {
  return {
    async complete(req: LocalLlmRequest) {
      const text = `${req.system}\n${req.user}`;
      let content: string;
      if (req.json && /"queries"/.test(text)) {
        const brief = (/Brief[^:]*:\s*(.+)/.exec(req.user)?.[1] ?? req.user).trim().slice(0, 80);
        const count = Number(/Write (\d+)/.exec(req.user)?.[1] ?? 5);
        const styles = ['aesthetic', 'inspiration ideas', 'minimal style', 'cozy mood', 'vintage look', 'color palette', 'outfit ideas'];
        const words =
          brief
            .toLowerCase()
            .replace(/[^\p{L}\p{N} ]/gu, ' ')
            .split(/\s+/)
            .filter(Boolean)
            .slice(0, 3)
            .join(' ') || 'pinterest';
        content = JSON.stringify({
          queries: Array.from({ length: Math.min(Math.max(count, 1), 10) }, (_, i) => `${words} ${styles[i % styles.length]}`),
        });
      } else if (req.json && /"movements"/.test(text)) {
        const emotion = (/Emotion:\s*(.+)/.exec(req.user)?.[1] ?? 'surprised').trim();
        const movements = ['Eyes widen', 'Eyebrows lift', 'Head tilts slightly', 'Leans toward the camera', 'Holds still for a beat'];
        content = JSON.stringify({
          movements,
          final_prompt: `${movements.join('. ')}. A ${emotion} reaction in handheld selfie framing. No speech, mouth closed.`,
        });
      } else if (req.json) {
        content = '{}';
      } else {
        const excerpt = (/<transcript>\s*([\s\S]*?)\s*<\/transcript>/.exec(req.user)?.[1] ?? req.user).slice(0, 400);
        content = `# Summary\n\n## Overview\n\nOffline summary (no LLM configured).\n\n## Transcript excerpt\n\n${excerpt}\n`;
      }
      return {
        content,
        parsed: req.json ? (JSON.parse(content) as unknown) : null,
        model: 'local',
        provider: 'local',
        fallbackUsed: false,
      };
    },
  };
}
