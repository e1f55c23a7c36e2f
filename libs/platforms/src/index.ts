// The platforms' protocol knowledge that both the product (recorder, audit) and the simulator need: which
// platforms there are, and the RGS's provably-fair algorithm (the simulator deals with it, the audit verifies).
export * from './platforms';
export * from './rgs/provably-fair';
export * from './rgs/games/dice';
export * from './rgs/games/mines';
export * from './rgs/games/game-codes';
export * from './rgs/money';
