import { AppError } from '../../src/errors.js';

/** The `code` of the AppError a call fails with (any other outcome fails the test). */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
  throw new Error('expected the call to fail');
}
