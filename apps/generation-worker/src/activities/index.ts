import { Context, ApplicationFailure } from '@temporalio/activity';
import {
  AUTH_ERRORS,
  ERROR_TYPES,
  type CopyRequest,
  type GeneratedMedia,
  type GenerationActivities,
  type ImageRequest,
  type PersonPromptRequest,
  type ReactionPromptRequest,
  type SaveJsonRequest,
  type VideoRequest,
} from '@gptmarket/contracts';
import {
  checkWorkflowSecret,
  extensionForContentType,
  localPersonPrompt,
  localReactionPrompt,
  localImage,
  localVideo,
  makeKey,
  type SecretConfig,
  type Storage,
} from '@gptmarket/providers';

export interface GenerationActivityDeps {
  storage: Storage;
  secrets: SecretConfig;
}

const nonRetryable = (message: string, type: string) => ApplicationFailure.create({ message, type, nonRetryable: true });

/** A storage-safe object id derived from a workflow id. */
const objectId = (name: string) => name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64) || 'object';

export function createGenerationActivities(deps: GenerationActivityDeps): GenerationActivities {
  const { storage } = deps;

  async function store(folder: string, data: Buffer, contentType: string, model: string, provider: string): Promise<GeneratedMedia> {
    const key = makeKey(folder, extensionForContentType(contentType));
    const stored = await storage.put(key, data, { contentType, contentLength: data.length });
    return { ...stored, provider, model };
  }

  return {
    async verifyWorkflowAuth(secretKey) {
      const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
      switch (checkWorkflowSecret(deps.secrets, secretKey, workflowId)) {
        case 'ok':
        case 'disabled':
          return;
        case 'missing':
          throw nonRetryable(AUTH_ERRORS.missing, ERROR_TYPES.auth);
        case 'invalid':
          throw nonRetryable(AUTH_ERRORS.invalid, ERROR_TYPES.auth);
        case 'not_configured':
          throw nonRetryable(AUTH_ERRORS.notConfigured, ERROR_TYPES.auth);
      }
    },

    async generatePersonPrompt(req: PersonPromptRequest) {
      return localPersonPrompt(req);
    },

    async generateReactionPrompt(req: ReactionPromptRequest) {
      return localReactionPrompt(req);
    },

    async generateImage(req: ImageRequest) {
      const image = await localImage(req);
      return store(req.folder, image.data, image.contentType, req.model, 'local');
    },

    async generateVideo(req: VideoRequest) {
      const startImage = typeof req.params.image === 'string' ? await readOwnObject(storage, req.params.image) : null;
      const video = await localVideo(req, startImage, () => Context.current().heartbeat());
      return store(req.folder, video.data, video.contentType, req.model, 'local');
    },

    async copyStoredMedia(req: CopyRequest) {
      const key = storage.keyFromUrl(req.url);
      if (!key) throw nonRetryable('copyStoredMedia: the URL is not in our storage', ERROR_TYPES.storage);
      const ext = key.slice(key.lastIndexOf('.') + 1);
      return storage.copy(key, makeKey(req.folder, ext));
    },

    async saveJson(req: SaveJsonRequest) {
      const body = Buffer.from(JSON.stringify(req.data, null, 2));
      return storage.put(makeKey(req.folder, 'json', new Date(), objectId(req.name)), body, {
        contentType: 'application/json',
        contentLength: body.length,
      });
    },
  };
}

/** Reads an object of ours into memory (images only: small). Null when the URL is not in our storage. */
async function readOwnObject(storage: Storage, url: string): Promise<{ data: Buffer; contentType: string } | null> {
  const key = storage.keyFromUrl(url);
  if (!key) return null;
  const obj = await storage.get(key);
  if (obj.size > 64 * 1024 * 1024) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of obj.body) chunks.push(chunk as Buffer);
  return { data: Buffer.concat(chunks), contentType: obj.contentType };
}
