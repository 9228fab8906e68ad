import { describe, expect, it } from 'vitest';
import { UPDATE_CHECK_INTERVAL_MS, updateCheckDue } from '../../../src/store/update-check';

const DAY = UPDATE_CHECK_INTERVAL_MS;
const now = 1_700_000_000_000;

describe('when to ask a pack host for updates: not every time Models opens', () => {
  it('is a day', () => expect(DAY).toBe(86_400_000));

  it('checks a pack never checked, when online', () => {
    expect(updateCheckDue({ lastChecked: undefined, now, online: true, asked: false })).toEqual({
      check: true,
    });
  });

  it('does not check again within a day', () => {
    for (const ago of [0, 1, 60_000, DAY - 1])
      expect(updateCheckDue({ lastChecked: now - ago, now, online: true, asked: false })).toEqual({
        check: false,
        why: 'recent',
        nextAt: now - ago + DAY,
      });
  });

  it('checks again once a day has passed', () => {
    for (const ago of [DAY, DAY + 1, 30 * DAY])
      expect(
        updateCheckDue({ lastChecked: now - ago, now, online: true, asked: false }).check,
      ).toBe(true);
  });

  it('never checks offline, even when asked', () => {
    for (const asked of [false, true])
      expect(updateCheckDue({ lastChecked: undefined, now, online: false, asked })).toEqual({
        check: false,
        why: 'offline',
        nextAt: null,
      });
  });

  it('checks when the user asks, however recent the last check', () => {
    expect(updateCheckDue({ lastChecked: now - 1, now, online: true, asked: true }).check).toBe(
      true,
    );
  });

  it('a clock set back counts as due, not as never', () => {
    expect(updateCheckDue({ lastChecked: now + DAY, now, online: true, asked: false }).check).toBe(
      true,
    );
  });
});
