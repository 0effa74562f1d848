/**
 * An error the user can fix (bad flag value, missing file, unknown app id). The CLI prints only
 * its message, without a stack, and exits with code 1.
 */
export class CliError extends Error {
  override readonly name = "CliError";
}
