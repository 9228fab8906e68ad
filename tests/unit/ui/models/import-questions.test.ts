import { describe, expect, it } from 'vitest';
import {
  NO_LCM_FOR_SD2,
  PREDICTION_CHOICES,
  importQuestions,
  predictionToSend,
} from '../../../../src/ui/models/import-questions';

describe('what the import form asks about a picked checkpoint', () => {
  it('asks "Prediction type" only for an SD 2.x file whose metadata does not say', () => {
    expect(importQuestions({ family: 'sd21', prediction: null }).askPrediction).toBe(true);
    expect(importQuestions({ family: 'sd21', prediction: 'v' }).askPrediction).toBe(false);
    expect(importQuestions({ family: 'sd21', prediction: 'epsilon' }).askPrediction).toBe(false);
    expect(importQuestions({ family: 'sd15', prediction: 'epsilon' }).askPrediction).toBe(false);
    expect(importQuestions(null).askPrediction).toBe(false);
  });

  it('offers epsilon and v in plain words', () => {
    expect(PREDICTION_CHOICES.map((c) => [c.value, c.label])).toEqual([
      ['epsilon', 'Epsilon (SD 2.x base)'],
      ['v', 'v-prediction (SD 2.x 768)'],
    ]);
  });

  it('says SD 2.x has no LCM-LoRA and stops offering one; SD 1.5 is offered one', () => {
    const sd2 = importQuestions({ family: 'sd21', prediction: 'v' });
    expect(sd2).toMatchObject({ offerLcmLora: false, lcmNote: NO_LCM_FOR_SD2 });
    expect(sd2.lcmNote).toMatch(/no LCM-LoRA for SD 2\.x/);
    expect(importQuestions({ family: 'sd15', prediction: 'epsilon' })).toMatchObject({
      offerLcmLora: true,
      lcmNote: null,
    });
  });

  it('sends the file’s own prediction, else the choice; waits (null) while an SD 2.x choice is missing', () => {
    expect(predictionToSend({ family: 'sd21', prediction: 'v' }, 'epsilon')).toBe('v');
    expect(predictionToSend({ family: 'sd21', prediction: null }, 'v')).toBe('v');
    expect(predictionToSend({ family: 'sd21', prediction: null }, null)).toBeNull();
    expect(predictionToSend({ family: 'sd15', prediction: 'epsilon' }, null)).toBeUndefined();
  });
});
