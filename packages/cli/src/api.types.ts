/**
 * The REST answers the CLI reads, as the API document (seed-api.md, README) gives them on the wire. The CLI is a
 * standalone client of that contract and depends on no platform package; these are its one copy of the shapes.
 */
export interface Page<T> {
  items: T[];
  pagination: { page: number; page_size: number; total: number; total_pages: number };
}

export interface ServiceSummary {
  service_id: string;
  name: string;
  status: string;
  endpoint_url: string;
  replicas: number;
  created_at: string;
}

export interface ServiceDetail extends ServiceSummary {
  description: string;
  model_id: number;
  model_version: string;
  framework: string;
  cpu: number;
  memory: number;
  gpu: number;
  workspace_id: number;
  ready_replicas: number;
  status_reason: string | null;
  status_message: string | null;
  updated_at: string;
}
