// Runs a GraphQL query whenever its variables change; answers arriving for older variables are ignored.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { graphql } from "./api.js";

export function useQuery(query, variables, { skip = false } = {}) {
  const [state, setState] = useState({ data: null, error: null, loading: !skip });
  const [generation, setGeneration] = useState(0);
  const latest = useRef(0);
  const key = JSON.stringify(variables);

  useEffect(() => {
    if (skip) return;
    const ticket = ++latest.current;
    setState((previous) => ({ data: previous.data, error: null, loading: true }));
    graphql(query, variables).then(
      (data) => ticket === latest.current && setState({ data, error: null, loading: false }),
      (error) => ticket === latest.current && setState({ data: null, error, loading: false }),
    );
  }, [query, key, generation, skip]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { ...state, reload };
}

/** A mutation's state: run(variables) resolves to data or null (the error is kept in `error`). */
export function useMutation(mutation) {
  const [state, setState] = useState({ data: null, error: null, running: false });
  const run = useCallback(
    async (variables) => {
      setState({ data: null, error: null, running: true });
      try {
        const data = await graphql(mutation, variables);
        setState({ data, error: null, running: false });
        return data;
      } catch (error) {
        setState({ data: null, error, running: false });
        return null;
      }
    },
    [mutation],
  );
  return { ...state, run };
}
