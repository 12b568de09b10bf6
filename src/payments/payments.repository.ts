import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Payment } from './payment.entity';

/** The `payments` table. Rows are inserted by the ledger engine, in the payment's own batch. */
@Injectable()
export class PaymentsRepository {
  constructor(@InjectRepository(Payment) private readonly payments: Repository<Payment>) {}

  findById(paymentId: string): Promise<Payment | null> {
    return this.payments.findOneBy({ paymentId });
  }
}
