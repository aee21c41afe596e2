import { join } from "node:path";
import { PhmatchError } from "@phmatch/core";
import { FeedbackState } from "@phmatch/core/internal";
import { stateDirOf } from "./commands/hashset/options.js";

/** Where a command finds serve's feedback state: its --feedback-dir, or its --state-dir (or PHMATCH_STATE_DIR). */
export interface StateChoice {
  feedbackDir?: string;
  stateDir?: string;
}

/** The feedback state serve keeps: --feedback-dir, else <state-dir>/feedback. */
export function stateOf(o: StateChoice): FeedbackState {
  if (o.feedbackDir !== undefined) return new FeedbackState(o.feedbackDir);
  const dir = stateDirOf(o);
  if (dir === undefined)
    throw new PhmatchError("PHM_USAGE", "give serve's --state-dir (or PHMATCH_STATE_DIR), or its --feedback-dir");
  return new FeedbackState(join(dir, "feedback"));
}
