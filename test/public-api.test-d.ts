// Type tests of @phmatch/core's public entry (run by `npm test` through vitest's typecheck, tsc on the built
// declarations): its runtime names and the shapes an embedder relies on. Removing a name, or retyping a record
// field, a decision, an option or an error code, fails here; test/public-api.test.ts pins the names at runtime.
import type { Readable } from "node:stream";
import type {
  Checker,
  CheckerOptions,
  CheckResult,
  Decision,
  ErrorCode,
  FailedRecord,
  HashedRecord,
  HashOptions,
  HashRecord,
  LoadedHashSet,
  LoadOptions,
  MatchHit,
  MatchPolicy,
  MatchResult,
  ScanFileRecord,
} from "@phmatch/core";
import * as core from "@phmatch/core";
import { describe, expectTypeOf, it } from "vitest";

describe("@phmatch/core public entry", () => {
  it("exports exactly these runtime names", () => {
    expectTypeOf<keyof typeof core>().toEqualTypeOf<
      // Errors and version
      | "PhmatchError"
      | "ERROR_CODES"
      | "PHMATCH_VERSION"
      // Decode
      | "decodeImage"
      | "DEFAULT_MAX_PIXELS"
      // Hash
      | "hashFile"
      | "hashImageBytes"
      | "hashPixels"
      | "SUPPORTED_ALGORITHMS"
      | "DEFAULT_ALGORITHMS"
      | "hasherSpec"
      | "isFailedRecord"
      | "hashRecordSchema"
      | "bytesToHex"
      | "hexToBytes"
      | "hammingDistance"
      | "SupervisedHashPool"
      | "HashPool"
      // Lists
      | "loadHashSet"
      | "RollbackState"
      | "parseStore"
      | "HashSetBuilder"
      | "importHashSet"
      | "HASH_SET_FORMATS"
      | "parseHashValue"
      | "serializeStore"
      | "signStore"
      | "verifyStore"
      | "generateSigningKeys"
      | "parseTrustedKeys"
      | "parseListKey"
      // Index
      | "chooseIndexKind"
      | "buildIndex"
      // Match
      | "Matcher"
      | "defaultPolicy"
      | "makePolicy"
      | "matchResultSchema"
      // Check
      | "createChecker"
      | "checkerFor"
      | "decide"
      // Scan
      | "scanFiles"
      | "ScanTally"
      | "scanReportSchema"
      | "walkInputs"
      // Report
      | "createReportWriter"
      | "writeReportIntegrity"
      | "verifyReport"
      // Audit
      | "AuditLog"
      | "verifyAuditLog"
    >();
  });

  it("errors: a stable string code from the table", () => {
    expectTypeOf<ErrorCode>().toEqualTypeOf<keyof typeof core.ERROR_CODES>();
    expectTypeOf<ErrorCode>().toExtend<string>();
    expectTypeOf<string>().not.toExtend<ErrorCode>();
    expectTypeOf<
      | "PHM_USAGE"
      | "PHM_FILE_NOT_FOUND"
      | "PHM_FILE_TOO_LARGE"
      | "PHM_DECODE_UNSUPPORTED"
      | "PHM_DECODE_CORRUPT"
      | "PHM_DECODE_TOO_MANY_PIXELS"
      | "PHM_HASHSET_FORMAT"
      | "PHM_HASHSET_SIGNATURE"
      | "PHM_HASHSET_ROLLBACK"
      | "PHM_HASHSET_KEY"
      | "PHM_AUDIT_ALTERED"
      | "PHM_INTERNAL"
    >().toExtend<ErrorCode>();
    expectTypeOf<core.PhmatchError>().toExtend<Error>();
    expectTypeOf<core.PhmatchError["code"]>().toEqualTypeOf<ErrorCode>();
    expectTypeOf<core.PhmatchError["path"]>().toEqualTypeOf<string | undefined>();
  });

  it("hash: a file or bytes to a HashRecord, hex per algorithm id", () => {
    expectTypeOf(core.hashFile).parameter(1).toEqualTypeOf<HashOptions | undefined>();
    expectTypeOf(core.hashFile).returns.toEqualTypeOf<Promise<HashRecord>>();
    expectTypeOf(core.hashImageBytes).parameters.toEqualTypeOf<[Uint8Array, string, HashOptions?]>();
    expectTypeOf(core.hashImageBytes).returns.toEqualTypeOf<Promise<HashRecord>>();
    expectTypeOf<HashRecord["path"]>().toEqualTypeOf<string>();
    expectTypeOf<HashRecord["hashes"]>().toEqualTypeOf<Record<string, string> | undefined>();
    expectTypeOf<HashRecord["quality"]>().toEqualTypeOf<Record<string, number> | undefined>();
    expectTypeOf<HashRecord["dihedral"]>().toEqualTypeOf<Record<string, string[]> | undefined>();
    expectTypeOf<HashRecord["error"]>().toEqualTypeOf<{ code: ErrorCode; message: string } | undefined>();
    expectTypeOf<HashedRecord["hashes"]>().toEqualTypeOf<Record<string, string>>();
    expectTypeOf<FailedRecord["error"]>().toEqualTypeOf<{ code: ErrorCode; message: string }>();
    expectTypeOf(core.isFailedRecord).guards.toEqualTypeOf<FailedRecord>();
    expectTypeOf(core.hammingDistance).toEqualTypeOf<(a: Uint8Array, b: Uint8Array) => number>();
    expectTypeOf(core.bytesToHex).toEqualTypeOf<(bytes: Uint8Array) => string>();
    expectTypeOf(core.hexToBytes).toEqualTypeOf<(hex: string, bytes: number) => Uint8Array>();
  });

  it("lists: loaded all or nothing, with trusted keys and a list key", () => {
    expectTypeOf(core.loadHashSet).parameters.toEqualTypeOf<[string, LoadOptions?]>();
    expectTypeOf(core.loadHashSet).returns.toEqualTypeOf<Promise<LoadedHashSet>>();
    expectTypeOf(core.parseTrustedKeys).returns.toEqualTypeOf<NonNullable<LoadOptions["trustedKeys"]>>();
    expectTypeOf(core.parseListKey).returns.toEqualTypeOf<NonNullable<LoadOptions["key"]>>();
    expectTypeOf<LoadOptions["versionState"]>().toEqualTypeOf<core.RollbackState | undefined>();
    expectTypeOf<LoadedHashSet["storeSha256"]>().toEqualTypeOf<string>();
    expectTypeOf<LoadedHashSet["signedBy"]>().toEqualTypeOf<string | undefined>();
  });

  it("match: a status and hits that name the list, never a person", () => {
    expectTypeOf<MatchResult["status"]>().toEqualTypeOf<"known" | "unseen" | "low_quality" | "error">();
    expectTypeOf<MatchResult["matches"]>().toEqualTypeOf<MatchHit[]>();
    expectTypeOf<MatchResult["checked"]>().toEqualTypeOf<string[]>();
    expectTypeOf<MatchHit["list"]>().toEqualTypeOf<string>();
    expectTypeOf<MatchHit["listVersion"]>().toEqualTypeOf<number>();
    expectTypeOf<MatchHit["algorithm"]>().toEqualTypeOf<string>();
    expectTypeOf<MatchHit["distance"]>().toEqualTypeOf<number>();
    expectTypeOf<MatchHit["category"]>().toEqualTypeOf<string | undefined>();
    expectTypeOf<core.Matcher["match"]>().toEqualTypeOf<(record: HashRecord) => MatchResult>();
    expectTypeOf(core.defaultPolicy).toEqualTypeOf<(algorithm: string) => MatchPolicy>();
  });

  it("check: options in, a decision with a reason code out", () => {
    expectTypeOf<Decision>().toEqualTypeOf<"match" | "no_match" | "low_quality" | "review" | "error">();
    expectTypeOf<CheckResult>().toExtend<MatchResult>();
    expectTypeOf<CheckResult["decision"]>().toEqualTypeOf<Decision>();
    expectTypeOf<CheckResult["reason_code"]>().toEqualTypeOf<string>();
    expectTypeOf(core.createChecker).toEqualTypeOf<(options: CheckerOptions) => Promise<Checker>>();
    expectTypeOf(core.decide).toEqualTypeOf<(result: MatchResult) => CheckResult>();
    expectTypeOf<CheckerOptions["hashsets"]>().toEqualTypeOf<(LoadedHashSet | string)[]>();
    expectTypeOf<CheckerOptions["load"]>().toEqualTypeOf<LoadOptions | undefined>();
    expectTypeOf<CheckerOptions["maxBytes"]>().toEqualTypeOf<number | undefined>();
    expectTypeOf<CheckerOptions["trim"]>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<CheckerOptions["rotations"]>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<CheckerOptions["parts"]>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<Checker["check"]>().parameter(0).toEqualTypeOf<Uint8Array | Readable | AsyncIterable<Uint8Array>>();
    expectTypeOf<Checker["check"]>().returns.toEqualTypeOf<Promise<CheckResult>>();
    expectTypeOf<Checker["matchRecord"]>().toEqualTypeOf<(record: HashRecord) => CheckResult>();
  });

  it("scan: one record per file, yielded in walk order", () => {
    expectTypeOf(core.scanFiles).returns.toEqualTypeOf<AsyncGenerator<ScanFileRecord>>();
    expectTypeOf(core.walkInputs).returns.toExtend<AsyncGenerator>();
  });
});
