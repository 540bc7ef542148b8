/**
 * What each connection is to be sent during one dispatch batch, shared between the
 * connections that are sent the same thing.
 *
 * A node stands for a sequence of frames (the path from the batch's root). A connection
 * appends a frame by stepping to the child for that frame; connections that receive the
 * same frames in the same order walk the same path and end on the same node. At the end
 * of the batch each connection writes its node's frames joined into one Buffer, and a node
 * joins them once however many connections end on it. In a broadcast that is one
 * Buffer.concat per batch and one write of one Buffer per socket, like the raw `ws` limit,
 * instead of a writev of every frame through each socket's buffered-write queue.
 *
 * Children are keyed by the frame Buffer's identity: frames are cached per event and per
 * subscription-id list (EncodedEvent), so equal deliveries are the same object.
 */
const EMPTY = Buffer.alloc(0);

export class OutputChain {
  readonly parent: OutputChain | undefined;
  readonly frame: Buffer;
  /** Bytes of every frame on the path, this one included. */
  readonly bytes: number;
  #first: OutputChain | undefined;
  #more: Map<Buffer, OutputChain> | undefined;
  #joined: Buffer | undefined;

  /** A batch's root: the empty sequence. */
  constructor(parent?: OutputChain, frame: Buffer = EMPTY) {
    this.parent = parent;
    this.frame = frame;
    this.bytes = (parent?.bytes ?? 0) + frame.length;
  }

  /** The node for this sequence followed by `frame`. */
  then(frame: Buffer): OutputChain {
    const first = this.#first;
    if (first === undefined) return (this.#first = new OutputChain(this, frame));
    if (first.frame === frame) return first;
    const more = (this.#more ??= new Map());
    let next = more.get(frame);
    if (next === undefined) more.set(frame, (next = new OutputChain(this, frame)));
    return next;
  }

  /** The frames of the path as one Buffer (built once per node). */
  joined(): Buffer {
    if (this.#joined !== undefined) return this.#joined;
    if (this.parent === undefined || this.parent.bytes === 0) return (this.#joined = this.frame);
    const frames: Buffer[] = [this.frame];
    for (let node = this.parent; node.parent !== undefined; node = node.parent)
      frames.push(node.frame);
    frames.reverse();
    return (this.#joined = Buffer.concat(frames, this.bytes));
  }
}
