import { useEffect, useState } from "preact/hooks";
import { api, type ApiError } from "./api";

/** What a GET of the path answers, loaded when the path changes: the value, the error, a reload, and a setter
 * for the error (so an action on the page reports its failure in the same place). */
export function useLoad<T>(path: string):
  [T | null, ApiError | null, () => void, (e: ApiError | null) => void] {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const load = () => { api<T>(path).then(setValue, setError); };
  useEffect(load, [path]);
  return [value, error, load, setError];
}
