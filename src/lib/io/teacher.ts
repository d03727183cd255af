// A distilled student's card names the file it was distilled from (`farmer distill` writes
// `teacher: { name, sha256, … }`). Experiments that compare the two find that file in the zoo and
// accept it only if its bytes hash to the recorded sha256. Browser-safe.

export interface TeacherRef {
  /** the teacher's file name or zoo name, as `farmer distill` was given it */
  name: string;
  /** lowercase hex SHA-256 of the teacher file */
  sha256: string;
}

const short = (sha: string) => `${sha.slice(0, 12)}…`;

/** The teacher a student's card names; throws when the card names none. */
export function teacherOf(card: Record<string, unknown>): TeacherRef {
  const t = card.teacher as { name?: unknown; sha256?: unknown } | undefined;
  if (!t || typeof t.name !== 'string' || typeof t.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(t.sha256))
    throw new Error(
      "this model's card names no teacher (name and sha256): it is not a student written by `farmer distill`",
    );
  return { name: t.name, sha256: t.sha256 };
}

/** The zoo entry holding the teacher: the one with its sha256, else the one with its name or file name. */
export function findTeacher<E extends { name: string; file: string; sha256?: string }>(
  entries: readonly E[],
  ref: TeacherRef,
): E | null {
  const bare = ref.name.replace(/\.safetensors$/, '');
  return (
    entries.find((e) => e.sha256 === ref.sha256) ??
    entries.find((e) => e.name === bare || e.file === ref.name || e.file.endsWith(`/${ref.name}`)) ??
    null
  );
}

export function teacherNotFound(ref: TeacherRef, where: string): string {
  return `this student's teacher ${ref.name} (sha256 ${short(ref.sha256)}) is not in ${where}`;
}

/** Throws unless `sha256` (of the file found) is the one the student was distilled from. */
export function checkTeacherHash(ref: TeacherRef, found: string, sha256: string): void {
  if (sha256 !== ref.sha256)
    throw new Error(
      `${found} (sha256 ${short(sha256)}) is not the file this student was distilled from (sha256 ${short(ref.sha256)}): distill the student again from it, or restore that teacher`,
    );
}
