/** The page grid's bookkeeping, kept apart from the view so that it can be tested in Node. */

/** How many of the grid's images have an answer: cards of images no longer listed (the page before a navigation) do not count. */
export function finishedCount(images: readonly { imageId: string }[] | null, cards: Readonly<Record<string, { status: string }>>): number {
  return (images ?? []).filter((image) => (cards[image.imageId]?.status ?? 'pending') !== 'pending').length;
}
