/** A node of an {@link IntrusiveList}: the links live on the element itself. */
export interface Linked<T> {
  prevLink?: T;
  nextLink?: T;
}

/**
 * A doubly linked list whose links are fields of its elements: adding and removing cost a few
 * pointer writes and no hashing or allocation, which matters on paths taken a million times a
 * second (a handle's pending calls, a pool member's calls in flight). An element belongs to at
 * most one list at a time.
 */
export class IntrusiveList<T extends Linked<T>> {
  head?: T;
  private tail?: T;
  size = 0;

  add(item: T): void {
    const tail = this.tail;
    item.prevLink = tail;
    item.nextLink = undefined;
    if (tail) tail.nextLink = item;
    // Written on every add, not only into an empty list: a store first made when a list empties
    // again (a pool's next batch) would find optimized code without feedback for it and throw it away.
    this.head = this.head ?? item;
    this.tail = item;
    this.size++;
  }

  /** Removes `item`, which must be in this list. */
  remove(item: T): void {
    const { prevLink: prev, nextLink: next } = item;
    if (prev) prev.nextLink = next;
    if (next) next.prevLink = prev;
    // Both ends written every time (see add).
    this.head = prev ? this.head : next;
    this.tail = next ? this.tail : prev;
    item.prevLink = item.nextLink = undefined;
    this.size--;
  }

  /** A snapshot in insertion order, so removing elements while iterating it is safe. */
  toArray(): T[] {
    const out: T[] = [];
    for (let item = this.head; item; item = item.nextLink) out.push(item);
    return out;
  }
}
