/** The MoltStation outcome from the final frame and the closing reason. */
export function moltstationOutcome(finalFrame: Record<string, unknown> | null, closeReason: string | null): Record<string, unknown> {
  const score = finalFrame?.['score'];
  const current = typeof score === 'number' ? score : score && typeof score === 'object' ? (score as Record<string, unknown>)['current'] : undefined;
  return {
    reason: closeReason ?? 'ended',
    phase: finalFrame?.['phase'] ?? null,
    tick: finalFrame?.['tick'] ?? null,
    score: typeof current === 'number' ? current : null,
    lives: typeof finalFrame?.['lives'] === 'number' ? finalFrame['lives'] : null,
    gameOverReason: finalFrame?.['gameOverReason'] ?? null,
  };
}
