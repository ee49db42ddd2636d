/**
 * A server-sent events parser (WHATWG HTML "event stream interpretation"), fed with decoded text in chunks of any
 * size: a chunk may end in the middle of a line, of a field name, or between the CR and LF of a CRLF.
 */

/** One dispatched event. `event` is `message` when the stream named none. */
export interface SseEvent {
  event: string;
  data: string;
  /** The last event id after this event (it persists across events, as in EventSource). */
  id: string;
  /** The `retry:` value received with or before this event, if any. */
  retry: number | undefined;
}

export interface SseParserCallbacks {
  onEvent(event: SseEvent): void;
  /** A comment line (`: text`), e.g. a heartbeat. */
  onComment?(text: string): void;
  /** A valid `retry:` field (milliseconds). */
  onRetry?(ms: number): void;
}

export class SseParser {
  private buffer = '';
  private sawBom = false;
  /** The previous chunk ended with CR: an LF at the start of the next chunk belongs to that line end. */
  private pendingCr = false;
  private data: string[] = [];
  private hasData = false;
  private eventType = '';
  private lastEventId: string;
  private retry: number | undefined;

  constructor(
    private readonly callbacks: SseParserCallbacks,
    initialLastEventId = '',
  ) {
    this.lastEventId = initialLastEventId;
  }

  /** The id the stream last set; send it as `Last-Event-ID` to resume. */
  get lastId(): string {
    return this.lastEventId;
  }

  feed(chunk: string): void {
    if (chunk.length === 0) return;
    let text = chunk;
    if (!this.sawBom) {
      this.sawBom = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.pendingCr) {
      this.pendingCr = false;
      if (text.charCodeAt(0) === 0x0a) text = text.slice(1);
    }
    this.buffer += text;
    let start = 0;
    const buf = this.buffer;
    for (;;) {
      let i = start;
      while (i < buf.length) {
        const c = buf.charCodeAt(i);
        if (c === 0x0a || c === 0x0d) break;
        i++;
      }
      if (i >= buf.length) break;
      const line = buf.slice(start, i);
      if (buf.charCodeAt(i) === 0x0d) {
        if (i + 1 < buf.length) {
          start = buf.charCodeAt(i + 1) === 0x0a ? i + 2 : i + 1;
        } else {
          this.pendingCr = true;
          start = i + 1;
        }
      } else {
        start = i + 1;
      }
      this.processLine(line);
    }
    this.buffer = buf.slice(start);
  }

  /**
   * The stream ended. As the standard says, an unterminated last line and an event not yet closed by a blank
   * line are discarded; the last event id is kept (it is what a reconnection sends).
   */
  end(): void {
    this.buffer = '';
    this.pendingCr = false;
    this.data = [];
    this.hasData = false;
    this.eventType = '';
  }

  private processLine(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.charCodeAt(0) === 0x3a /* : */) {
      this.callbacks.onComment?.(line.slice(1).replace(/^ /, ''));
      return;
    }
    const colon = line.indexOf(':');
    let field: string;
    let value: string;
    if (colon === -1) {
      field = line;
      value = '';
    } else {
      field = line.slice(0, colon);
      value = line.slice(colon + 1);
      if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    }
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.data.push(value);
        this.hasData = true;
        break;
      case 'id':
        if (!value.includes('\u0000')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) {
          this.retry = Number(value);
          this.callbacks.onRetry?.(this.retry);
        }
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  private dispatch(): void {
    if (!this.hasData) {
      this.eventType = '';
      return;
    }
    const event: SseEvent = {
      event: this.eventType || 'message',
      data: this.data.join('\n'),
      id: this.lastEventId,
      retry: this.retry,
    };
    this.data = [];
    this.hasData = false;
    this.eventType = '';
    this.callbacks.onEvent(event);
  }
}

/** Parses a whole stream given as text (handy for tests and for recorded streams). */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = new SseParser({ onEvent: (e) => events.push(e) });
  parser.feed(text);
  parser.end();
  return events;
}
