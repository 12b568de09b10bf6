import { EpochMillisQuery } from '../../common/http/query-transforms';

export class BalanceQueryDto {
  @EpochMillisQuery(
    'at',
    'Epoch ms: the balance after every entry whose timestamp ≤ at. 404 if the account did not exist yet.',
  )
  at?: number;
}
